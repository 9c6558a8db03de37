"""The steps a 360Learning administrator follows to connect lmsbridge (shown by the connection page
and by docs/connectors/360learning.md)."""

SETUP_TEXT = """\
1. Sign in to 360Learning as a **platform administrator** (Owner or Admin of the company).
2. Open **Settings > API** (Platform settings, "API v2") and create an API key for lmsbridge.
3. Grant it these scopes: `users:read`, `courses:read`, `courses:write`, `courseStats:read`,
   `skills:read`, `skills:bulk`, `integrations:read`, `integrations:write`, `integrations:bulk`,
   `bulkOperations:read`.
4. Copy the **client id** and the **client secret** (shown once). Note whether your platform is
   on the EU host (`https://app.360learning.com`) or the US host (`https://app.us.360learning.com`).
5. Courses lmsbridge writes arrive through an *external-course integration*. Either create one in
   360Learning (or with `POST /api/v2/integrations`) and give its id as `integration_id`, or give
   `author_id` (a user who authors the courses) and `group_id` (the group whose catalog receives
   them) and lmsbridge creates one named `lmsbridge` (setting `external_platform`) on first write.
6. In lmsbridge, give the host as `site_url`, and `client_id` and `client_secret` as credentials.

lmsbridge reads users, courses, course attempts, skills and integrations; it upserts and archives
external courses, imports completions as external statistics and upserts skills. It never
deletes users or courses.
"""
