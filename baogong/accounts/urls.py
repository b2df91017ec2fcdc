from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from baogong.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="password_change"),
    path("accounts/", views.account_list, name="list"),
    path("accounts/new/area/<int:area_pk>/", views.account_create, name="create"),
    path(
        "accounts/new/household/<int:household_pk>/",
        views.resident_account_create,
        name="resident_create",
    ),
    path(
        "accounts/<int:user_pk>/reset-password/",
        views.account_reset_password,
        name="reset_password",
    ),
    path("accounts/grants/<int:grant_pk>/revoke/", views.grant_revoke, name="revoke"),
]
