"""The Outlook add-in: the task pane (:mod:`.pane`), its JSON API (:mod:`.api`), token validation
(:mod:`.tokens`) and the manifests (:mod:`.manifest`). See README, "Outlook add-in"."""
