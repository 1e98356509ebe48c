"""The baseline of benchmarks/webhook.py: a bare line-bot-sdk v3 echo bot.

It does what every LINE bot must do and nothing more: check `X-Line-Signature` with
`WebhookParser`, then answer each text message with the same text through
`MessagingApi.reply_message`. No database, no conversation state.

    gunicorn --chdir benchmarks 'echo_app:create_app()'

Reads LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN and LINE_API_HOST from the environment,
as the bot does.
"""

from __future__ import annotations

import os

from flask import Flask, abort, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import MessageEvent, TextMessageContent


def create_app() -> Flask:
    app = Flask(__name__)
    parser = WebhookParser(os.environ["LINE_CHANNEL_SECRET"])
    configuration = Configuration(host=os.environ.get("LINE_API_HOST", "https://api.line.me"),
                                  access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"])
    api = MessagingApi(ApiClient(configuration))

    @app.post("/callback")
    def callback():
        signature = request.headers.get("X-Line-Signature")
        if not signature:
            abort(400)
        try:
            events = parser.parse(request.get_data(as_text=True), signature)
        except InvalidSignatureError:
            abort(400)
        for event in events:
            if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
                try:
                    api.reply_message(ReplyMessageRequest(
                        reply_token=event.reply_token,
                        messages=[TextMessage(text=event.message.text)]), _request_timeout=5)
                except ApiException:
                    pass
        return "OK"

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app
