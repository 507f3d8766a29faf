"""The process boundary between QGIS and the models (see DESIGN.md, "The runtime").

QGIS side, standard library only: `client` starts a worker and runs jobs on it, `install`
makes the environment it runs in. Worker side: `worker` reads jobs and `jobs` calls the
pipelines. `messages` is the one shape of what crosses.
"""
