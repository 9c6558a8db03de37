"""The steps a TalentLMS administrator follows to connect lmsbridge (shown by the connection page
and by docs/connectors/talentlms.md)."""

SETUP_TEXT = """\
1. Sign in to TalentLMS as an **Administrator** (the API is available on paid plans only, not on
   the free plan or a trial).
2. Go to **Account & Settings > Integrations > API** and tick **Enable API**; save.
3. Copy the **API key** shown there. The same key serves API v1 and the Public API v2; it acts
   with administrator rights on the whole portal, so keep it secret.
4. Note the portal's address as it appears on that page's API host, for example
   `https://acme.talentlms.com` (the API stays on the `talentlms.com` host even when your portal
   has its own domain).
5. In lmsbridge, give the address as `site_url` and the key as `api_key`.

lmsbridge reads users, courses and learners' progress, creates and updates courses (the course
code holds the id your content system knows the course by, and the description's last line its
link), enrols learners and deactivates courses. It never deletes anything in TalentLMS.
"""
