"""The example project's own app: okrcore's abstract models under the app's names."""
