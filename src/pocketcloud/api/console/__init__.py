"""The web console: a read-only view of the cloud, served by the control plane at /console.

Signed in with an access key (checked as the API checks it); every list is fetched as
that principal through the API's own authorization and handlers, so IAM decides what a
user sees, and a denied section shows AWS's error in its place.

Parts: Starlette (routing, signed session cookie), Jinja2 templates, and water.css
2.1.1 (MIT, the light theme, vendored from npm: ``static/water.min.css``).
"""
