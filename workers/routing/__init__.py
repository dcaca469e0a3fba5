"""Event routing: field-mapping templates, route definitions and their validation, and
the pipeline that runs a route's steps as one ``action`` job each."""
