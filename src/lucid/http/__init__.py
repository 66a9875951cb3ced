"""What Lucid's two HTTP faces share: the JSON API (`lucid.service`) and the dashboard's pages
(`lucid.dashboard`) — domain errors as HTTP problems, and the project handle of a request."""
