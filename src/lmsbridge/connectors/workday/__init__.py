"""Workday Learning over Workday's SOAP web services (Learning and Human_Resources), with
WS-Security or OAuth2 refresh-token authentication."""
