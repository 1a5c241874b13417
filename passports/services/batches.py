"""The progress of a batch of passports being issued (an import, or products issued together in
the admin): for each product its latest passport version, counted by state."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Subquery

from passports.models import Passport


@dataclass(frozen=True)
class BatchProgress:
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # by state; "none": no passport yet
    failed: list[Passport] = field(default_factory=list)  # the first few, with their reason

    @property
    def pending(self) -> int:
        return self.counts.get(Passport.State.PENDING, 0)

    @property
    def issued(self) -> int:
        return self.counts.get(Passport.State.ISSUED, 0)

    @property
    def done(self) -> bool:
        """Nothing is being signed any more (each passport issued, failed or changed since)."""
        return self.pending == 0

    @property
    def all_issued(self) -> bool:
        return self.total > 0 and self.issued == self.total


def batch_progress(product_ids: list[int], *, show_failed: int = 20) -> BatchProgress:
    """Two queries whatever the batch's size."""
    latest = Passport.objects.filter(
        product_id__in=product_ids,
        version=Subquery(Passport.objects.filter(product=OuterRef("product"))
                         .order_by("-version").values("version")[:1]))
    counts = dict(latest.order_by().values_list("state").annotate(count=Count("pk")))
    failed = list(latest.filter(state=Passport.State.FAILED).select_related("product")
                  .only("pk", "state", "state_reason", "version", "product__name",
                        "product__gtin", "product__serial", "product__lot")
                  .order_by("product_id")[:show_failed])
    total = len(set(product_ids))
    if total > sum(counts.values()):
        counts["none"] = total - sum(counts.values())
    return BatchProgress(total=total, counts=counts, failed=failed)
