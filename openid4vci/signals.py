"""What openid4vci listens to in other apps (connected in apps.ready). Each receiver runs in
the transaction of the change it hears about and hands the work to a service."""

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from openid4vci.services import issuance, status
from passports.models import Entitlement
from passports.signals import passports_status_changed
from wallet.tenancy.legal_models import AttestationRequest, WalletCredential


@receiver(post_save, sender=AttestationRequest, dispatch_uid="openid4vci.attestation_decided")
def _attestation_decided(sender, instance, created, **kwargs):
    if not created:
        issuance.attestation_decided(instance)


@receiver(passports_status_changed, dispatch_uid="openid4vci.passports_status_changed")
def _passports_changed(sender, passport_ids, state, **kwargs):
    status.copies_follow_passports(passport_ids, state)


@receiver(pre_delete, sender=Entitlement, dispatch_uid="openid4vci.entitlement_withdrawn")
def _entitlement_withdrawn(sender, instance, **kwargs):
    # pre_delete: the offers still point at the entitlement (SET_NULL comes after).
    status.copies_follow_entitlement_withdrawn(instance.pk)


@receiver(post_save, sender=WalletCredential, dispatch_uid="openid4vci.credential_changed")
def _credential_changed(sender, instance, created, **kwargs):
    if not created:
        status.copies_follow_credential(instance)
