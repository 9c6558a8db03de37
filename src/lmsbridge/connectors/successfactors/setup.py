"""The steps a SuccessFactors Learning administrator follows to connect lmsbridge."""

SETUP_TEXT = """\
1. In **SuccessFactors Learning Administration**, go to **System Administration > Configuration >
   Global Variables** and note the **company id**.
2. Go to **System Administration > Management > OAuth Configuration** (Learning token server) and
   register a client: note its **client id** and generate a **client secret**.
3. Make sure the admin user lmsbridge acts as (default `sfadmin`) may use the OData v4 admin
   services (searchStudent, searchItem, learning plan, learning history, OCN, learning events).
4. Register a content provider for the **Open Content Network** (its id, default `LMSBRIDGE`) and
   schedule the OCN import job, so upserted courses reach the catalog.
5. In lmsbridge, give the Learning host as `learning_url`, `company_id`, and the client as
   credentials. To use the platform SAML-bearer flow instead, set `token_flow` to `saml_bearer`
   and give `saml_assertion`.

lmsbridge reads learners, the catalog and learners' to-do items and learning history; it creates,
updates and deactivates courses through OCN (SAP accepts one course every 500 seconds, so large
upserts take hours) and records completions as learning events. It never deletes anything.
"""
