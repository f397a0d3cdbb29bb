"""`itinera gameday`: FIS experiments carried out on the local stack, judged and reported."""
