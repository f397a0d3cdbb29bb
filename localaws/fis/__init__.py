"""FIS, locally: experiment templates planned and carried out on the local stack's resources.

`plan` turns a template's actions into a local plan, `targets` resolves its targets against
the running stack, `actions` is what each FIS action does and undoes locally, `effects` pulls
the stack's levers, and `executor` runs the plan with stop conditions and a rollback.
"""
