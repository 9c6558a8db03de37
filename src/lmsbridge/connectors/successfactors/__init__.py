"""SAP SuccessFactors Learning: OData v4 services under `/learning/odatav4/` on the Learning host,
with the Learning token server (or the platform SAML-bearer flow). Users from searchStudent,
courses and providers from searchItem, progressions from each learner's to-do items and learning
history; course upserts and deactivation through the Open Content Network (paced at one course
per `ocn_pace_seconds`), completions as OCN learning events. Enrolment is not offered."""
