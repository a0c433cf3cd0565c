"""Static files under content-hashed names, for production (settings.STATIC_MANIFEST).

Django's manifest storage also rewrites the `sourceMappingURL` comment at the end of each
JavaScript file to the map's hashed name, and refuses to collect a file whose map is absent.
Vendored libraries ship minified without their maps (Leaflet's points at leaflet.js.map), so
JavaScript is left as it is: a missing map costs a 404 in the browser's developer tools, not
a failed deploy. CSS keeps every rewrite: its url() references are what the hashing is for.
"""

from __future__ import annotations

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class ManifestStaticStorage(ManifestStaticFilesStorage):
    patterns = tuple((glob, rules) for glob, rules in ManifestStaticFilesStorage.patterns if glob != "*.js")
