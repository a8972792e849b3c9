// The admin's navigation sidebar starts collapsed, so the queues have the whole width of a
// 1280 px screen; the specialist's own choice (the sidebar's toggle) is kept from then on.
// Runs before the admin's nav_sidebar.js (deferred), which reads this setting.
(function () {
  var key = "django.admin.navSidebarIsOpen";
  try {
    if (localStorage.getItem(key) === null) localStorage.setItem(key, "false");
  } catch (error) {
    // Storage refused (private mode): the admin's default applies.
  }
})();
