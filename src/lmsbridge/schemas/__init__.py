"""Wire models of the contract, shared by the API and the client."""
