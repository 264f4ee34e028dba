"""Alerts on leaking campaigns, outbound webhooks and their deliveries, follow-ups that recover
lost callers. Reads calls, publishers, routing and the KPI engine; nothing below imports it."""
