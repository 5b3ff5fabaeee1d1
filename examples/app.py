import os
from flask import Flask
from flask_aiflow import AiFlow, hookimpl


class Echo:
    @hookimpl
    def aiflow_user_speak(self, event):
        return f"You said: {event.text}"


app = Flask(__name__)
app.config["AIFLOW_SHARED_SECRET"] = os.environ["AIFLOW_SHARED_SECRET"]
AiFlow(app, skills=[Echo()])
