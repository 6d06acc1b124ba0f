"""A modal dialog for the model file to optimize and optional calibration data."""

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static


@dataclass(frozen=True)
class OptimizeRequest:
    """An optimize request: an .onnx file and, optionally, calibration data."""

    model: Path
    calibration: Path | None


def user_path(text: str) -> Path:
    """Turn typed text into a path, expanding ~ as a shell would."""
    return Path(text.strip()).expanduser()


class OnnxFile(Validator):
    """Accept the path of an existing file whose name ends in .onnx."""

    def validate(self, value: str) -> ValidationResult:
        """Return a failure that names the path and what to give instead."""
        if not value.strip():
            return self.failure("Give the path of an .onnx model file.")
        path = user_path(value)
        if path.suffix.lower() != ".onnx":
            return self.failure(f"{path} does not end in .onnx. Give an ONNX model file.")
        if path.is_dir():
            return self.failure(f"{path} is a folder. Give an .onnx model file.")
        if not path.is_file():
            return self.failure(f"{path} does not exist. Check the path.")
        return self.success()


class OptionalData(Validator):
    """Accept an empty value or the path of an existing file or folder."""

    def validate(self, value: str) -> ValidationResult:
        """Return a failure that names a calibration path that does not exist."""
        if value.strip() and not user_path(value).exists():
            return self.failure(f"Calibration data {user_path(value)} does not exist. Check the path or leave it empty.")
        return self.success()


class OptimizeDialog(ModalScreen[OptimizeRequest | None]):
    """The model path and calibration path. Dismisses with an OptimizeRequest, or None on cancel."""

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="optimize.cancel",
            tooltip="Close the dialog without optimizing",
        ),
    ]

    DEFAULT_CSS = """
    OptimizeDialog {
        align: center middle;
    }
    OptimizeDialog > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        padding: 0 1;
        border: round $primary;
        border-title-color: $primary;
        background: $surface;
    }
    OptimizeDialog Input {
        margin-bottom: 1;
    }
    OptimizeDialog #optimize-error {
        color: $text-error;
        height: auto;
    }
    OptimizeDialog Horizontal {
        height: auto;
        align-horizontal: center;
    }
    OptimizeDialog Button {
        margin: 0 2;
    }
    """

    def compose(self) -> ComposeResult:
        """Lay out the two paths, a note on random inputs, the error line and the buttons."""
        with Vertical() as dialog:
            dialog.border_title = "Optimize a model"
            yield Label("Model file (.onnx)")
            yield Input(placeholder="path/to/model.onnx", validators=[OnnxFile()], validate_on=["submitted"],
                        id="model-path")
            yield Label("Calibration data (optional, Tab): .npz, folder, images or .wav")
            yield Input(placeholder="empty: random inputs", validators=[OptionalData()], validate_on=["submitted"],
                        id="calibration-path")
            yield Static(
                Content("Without calibration data, the variants are measured on random inputs: "
                        "agreement with FP32 is not measured and int8-static is skipped.")
            )
            yield Static(id="optimize-error")
            with Horizontal():
                yield Button("Optimize", variant="primary", id="optimize")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Start in the model path."""
        self.query_one("#model-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Submit from either field; Tab moves between them.

        Moving focus on Enter looked like nothing happened to people who
        wanted to run without calibration data.
        """
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Submit on Optimize, close on Cancel."""
        if event.button.id == "optimize":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        """Dismiss with the request when both paths are valid, else show the first error."""
        model = self.query_one("#model-path", Input)
        calibration = self.query_one("#calibration-path", Input)
        errors = [
            description
            for field in (model, calibration)
            for description in field.validate(field.value).failure_descriptions
        ]
        self.query_one("#optimize-error", Static).update(Content(errors[0] if errors else ""))
        if errors:
            return
        data = calibration.value.strip()
        self.dismiss(OptimizeRequest(user_path(model.value), user_path(data) if data else None))

    def action_cancel(self) -> None:
        """Close without optimizing."""
        self.dismiss(None)
