"""Cornerstone OnDemand: users from the Employee API v2, learning objects, transcripts and
competencies from the Reporting API's OData views, writes through the Learning Object and
Transcript APIs (docs/connectors/cornerstoneondemand.md)."""
