"""The Databricks Certified Machine Learning Associate course: what every notebook imports.

    from course.spark import get_spark          # the Spark session
    from course.tracking import start_tracking  # MLflow on a local sqlite store
    from course import datasets                 # offline datasets, pandas or Spark
"""
__version__ = "0.1.0"
