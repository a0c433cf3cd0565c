"""Admin editing of geography fields without a map widget.

Django's map widgets load OpenLayers and tiles from the internet, which the product must
never do at run time; coordinates are edited as WKT text (`POINT (lon lat)`) instead.
"""

from django import forms
from django.contrib import admin
from django.contrib.gis.db import models as gis_models


class WktGeometryAdmin(admin.ModelAdmin):
    formfield_overrides = {
        gis_models.PointField: {"widget": forms.Textarea(attrs={"rows": 1, "cols": 60})},
        gis_models.MultiPolygonField: {"widget": forms.Textarea(attrs={"rows": 4, "cols": 80})},
    }
