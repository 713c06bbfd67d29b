"""Development tools for local runs and tests (a fake SMS gateway, the demo outage);
no service imports them."""
