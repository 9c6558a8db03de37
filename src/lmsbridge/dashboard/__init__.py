"""The operator dashboard (`/dashboard`) and the one look of every server-rendered page: Jinja2
templates and the files they use, all inside the package (no CDN)."""
