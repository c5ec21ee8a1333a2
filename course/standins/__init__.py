"""Local stand-ins for Databricks products, one module per product.

Some exam topics are Databricks services that do not run outside a Databricks workspace. The
course teaches them with a small local module that keeps the product's names and keyword
signatures, so a notebook cell reads like the Databricks code, and does the work with open-source
libraries on the learner's machine. Each module opens with what it imitates and what it does not:
a stand-in is for learning the workflow, never a claim that the product behaves exactly so.

* ``automl``: Databricks AutoML (``databricks.automl.classify`` / ``regress``).
* ``feature_engineering``: Feature Engineering in Unity Catalog (``databricks.feature_engineering``).
* ``serving``: Model Serving endpoints, created and queried as ``mlflow.deployments.get_deploy_client("databricks")``
  does, each served version a real ``mlflow models serve`` process, with traffic split between them.
* ``jobs``: Lakeflow Jobs (formerly Databricks Jobs): multi-task jobs, their matrix view, repair runs.
* ``monitoring``: data profiling (formerly Lakehouse Monitoring) of an inference table: profile and
  drift metric tables.
"""
