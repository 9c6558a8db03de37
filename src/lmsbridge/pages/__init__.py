"""The one look of every server-rendered page (dashboard, connection flow, log pages): the Jinja2
environment, the security headers, the base template and the stylesheet and scripts, all inside
the package (no CDN)."""
