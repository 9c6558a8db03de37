"""The steps a Udemy Business administrator follows to connect lmsbridge (shown by the
connection page and by docs/connectors/udemy.md)."""

SETUP_TEXT = """\
1. Sign in to Udemy Business as an **Admin** of your organization (the API comes with the
   Enterprise plan).
2. Open **Manage > Settings > API** and turn on the **Courses and reporting APIs**.
3. Create an API client: copy its **Client ID** and **Client secret** (the secret is shown once),
   and note the **Account ID** (the organization's numeric id) shown on the same page.
4. Your organization's address is `https://<your-subdomain>.udemy.com`.
5. In lmsbridge, give the address as `site_url`, the account id as `account_id`, and the client id
   and secret as credentials.

lmsbridge only reads: the course catalog, and who learned what from Udemy's reports (which can be
up to 6 hours behind the learner). It never changes anything in Udemy Business.
"""
