"""Static files under content-hashed names, for production (settings.STATIC_MANIFEST).

Django's manifest storage also rewrites the `sourceMappingURL` comment at the end of each
JavaScript file to the map's hashed name, and refuses to collect a file whose map is absent.
Vendored libraries ship minified without their maps (Leaflet's points at leaflet.js.map), so
JavaScript is left as it is: a missing map costs a 404 in the browser's developer tools, not
a failed deploy. CSS keeps every rewrite: its url() references are what the hashing is for.

Except the imports of ES modules (the technician app's, `import ... from "./store.js"`): those
are rewritten to the hashed names, so that a deploy changes the URL of every module that
changed and no browser mixes a new module with an old one it cached.
"""

from __future__ import annotations

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class ManifestStaticStorage(ManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
    patterns = tuple((glob, rules) for glob, rules in ManifestStaticFilesStorage.patterns if glob != "*.js")
