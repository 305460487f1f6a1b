# The README's shell commands that are safe to run against a `make run` server, checked
# by tests/e2e/test_readme_commands.py: each must appear in README.md word for word
# (spacing aside) and succeed in the `make run` setup, with `leadflow` on the PATH.
# Commands are separated by blank lines. Before running one, the test puts the server's
# address for http://127.0.0.1:8000, the demo admin for NAME, and the demo API token in
# $TOKEN, and runs it in a folder that looks like the repository's (leadflow/, a small
# leads.csv, ../shared/data/ when the repository has it beside it). "# exit: 0,1" sets
# the allowed exit statuses (default 0); "# expect: TEXT" is text the output must hold.
# Left out: long-running servers and workers, make targets, createadmin (it would reset
# the demo admin's password) and the production setup.

leadflow --help

leadflow migrate

leadflow demo

leadflow token create --user NAME

leadflow token list

# expect: "email": "ana@example.com"
curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
     -d '{"email": "ana@example.com", "first_name": "Ana", "utm_source": "google"}' \
     http://127.0.0.1:8000/api/v1/leads

# expect: "status":"created"
curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
     -d '{"events": [{"email": "ana@example.com", "type": "newsletter_signup",
                      "idempotency_key": "nl-ana-1"}]}' \
     http://127.0.0.1:8000/api/v1/events

leadflow import leads.csv

leadflow manage refresh_duplicates

leadflow manage axes_reset

# exit: 0,1
leadflow import ../shared/data/x-education-leads/Leads.csv --mapping \
  leadflow/imports/mappings/x_education.json
