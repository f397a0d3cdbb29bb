"""`itinera dashboard render`: the template's CloudWatch dashboards drawn offline.

Nothing else renders dashboard JSON without GetMetricWidgetImage (which moto lacks), so this
package reads each dashboard body, asks GetMetricData for every widget's metrics through a
MetricReader, evaluates SEARCH and metric math itself, and draws PNGs with matplotlib.
"""
