from django.urls import path

from . import views

urlpatterns = [
    path("", views.AuditLogList.as_view(), name="audit-list"),
    path("<int:pk>", views.AuditLogDetail.as_view(), name="audit-detail"),
]
