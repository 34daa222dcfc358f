"""The call feature: events in (controller), logic (flow), ARI adapters (leg, telephony)."""
