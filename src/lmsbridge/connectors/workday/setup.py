"""The steps a Workday administrator follows to connect lmsbridge."""

SETUP_TEXT = """\
1. In Workday, create an **Integration System User** (task *Create Integration System User*), tick
   *Do Not Allow UI Sessions*, and put it in an integration system security group.
2. Give that group these domain permissions and activate them (*Activate Pending Security Policy
   Changes*): Get on *Manage: Learning Content*, View and Get on *Reports: Learning Record* and
   *Person Data: Learning*, Get and Put on *Manage: Learning Course Enrollments*, Get on *Set up:
   Skills and Experience* and *Worker Data: Public Worker Reports*; and the initiating action
   *Enroll In Learning Content (Web Service)* of the *Enroll in Content* business process.
3. Note the web services host and tenant from *Public Web Services* (the address looks like
   `https://wd2-impl-services1.workday.com/ccx/service/acme/Learning/v44.1`: the host is
   `base_url`, `acme` the `tenant`).
4. Either give the user name and password (`auth_mode` `ws_security`), or register an API client
   for integrations (task *Register API Client for Integrations*, functional area *Learning
   Core*), generate a non-expiring refresh token for the user, and give `client_id`,
   `client_secret` and `refresh_token` (`auth_mode` `oauth`).

lmsbridge reads workers, learning courses (digital and blended), their skills and providers, and
learning enrollments; it creates and updates digital courses, enrols learners, records
completions and deactivates courses. It deletes nothing in Workday.
"""
