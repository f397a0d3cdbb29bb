"""The public API's contract: request and response models that every service validates with."""
