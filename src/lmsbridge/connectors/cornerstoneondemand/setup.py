"""The steps a Cornerstone administrator follows to connect lmsbridge (shown by the connection
page and by docs/connectors/cornerstoneondemand.md)."""

SETUP_TEXT = """\
1. Sign in to your Cornerstone portal as an administrator with access to **Admin > Tools > Edge**.
2. Open **Edge > API Explorer** (OAuth 2.0 Applications) and register a new application.
3. Give it these scopes: `employee:read`, `vw_rpt_training:read`, `vw_rpt_transcript:read`,
   `vw_rpt_lo_competencies_local:read`, `training:create`, `transcript:create:assign` and
   `transcript:update:complete`; and give its service user the security permissions those
   APIs ask for: the reporting views, **Materials Management** (to create materials), and
   transcript assign and complete.
4. Copy the application's **Client ID** and **Client Secret** (the secret is shown once).
5. Your portal's address is `https://<corp>.csod.com` (pilot and stage portals end in
   `-pilot` / `-stg`).
6. In lmsbridge, give the address as `site_url`, and the client id and secret as credentials.

lmsbridge reads users, learning objects, transcripts and competencies; it creates learning
objects (Cornerstone's API cannot update one afterwards), assigns them, and records completions.
"""
