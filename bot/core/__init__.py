"""The postmortem core: prepare → prompt → analyse → parse → narrate. No Slack imports here."""
