from django.contrib import admin
from django.urls import path

from doorstep.api.endpoints import api
from doorstep.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
