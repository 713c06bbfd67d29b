"""The alerting rules, pure and synchronous: values in, values and events out."""
