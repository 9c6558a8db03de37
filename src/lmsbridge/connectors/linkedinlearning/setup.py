"""The steps a LinkedIn Learning administrator follows to connect lmsbridge."""

SETUP_TEXT = """\
1. Sign in to LinkedIn Learning as an **account administrator** and open **Go to Admin >
   Me > Integrate** (the settings page with *API applications*).
2. Request access to the LinkedIn Learning API if it is not on yet, then **Add application**:
   tick the **Content** and **Reporting** APIs (lmsbridge reads the catalog and the learner
   activity reports).
3. Copy the application's **Client ID** and **Client Secret**.
4. In lmsbridge, give them as credentials; the catalog language and country (`language`,
   `country`) default to English / US.

lmsbridge only reads: courses, skills and learners' activity (LinkedIn's reports lag by about a
day). It never changes anything in LinkedIn Learning. Tokens last about 90 days and are requested
again when they expire.
"""
