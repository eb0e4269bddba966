"""The root of every error the server raises on purpose.

BpractError (detail)
├── settings.SettingsError        an environment variable that does not parse
├── llm.errors.LLMError           the gateway: providers, routes, budgets, policies
├── kb.errors.KnowledgeBaseError  ingestion, embeddings, search
├── triggers.errors.TriggersError rulesets, rules, sites named by key
├── chat.site_settings.ChatSettingsError  a refused change of a site's chat settings
└── sites.SiteNotFoundError       no site with that key or id
"""

from __future__ import annotations

__all__ = ["BpractError"]


class BpractError(Exception):
    """An expected failure; ``detail`` says what happened and is safe to show to an admin."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
