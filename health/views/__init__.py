"""The seller dashboard: function views, one module per page or action group."""
