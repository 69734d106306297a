"""The theory lab: toy distributions (``distributions``) and games (``games``), the live lab (``live``: state,
``figures``, ``processes``), the theory checked (``checks``) and stated as claims (``claims``), and a toy run's
``report``. Nothing is imported here: the floors differ (distributions and games are leaves)."""
