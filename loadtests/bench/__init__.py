"""`itinera bench`: each hot path of the booking system next to its reference, in one run."""
