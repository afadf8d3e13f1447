"""The pipeline: settings, the title job, the Celery app and tasks, the command line."""
