"""Signals other apps listen to. Sent inside the transaction of the change, so a receiver's
writes commit (or roll back) with it."""

from django.dispatch import Signal

# A batch of passports changed state by revoke, suspend or reinstate (services/status.py):
# send(sender=Passport, passport_ids=[...], state=<the new Passport.State>).
passports_status_changed = Signal()
