"""Alerts: wounds that need attention, as records, evaluated in the transaction
of the write that changed them; delivered by signed webhooks and an e-mail
digest."""
