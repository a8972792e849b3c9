from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import LoginForm

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("login/code/", views.verify_two_factor, name="verify_two_factor"),
    path("login/code/set-up/", views.enrol_two_factor, name="enrol_two_factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
