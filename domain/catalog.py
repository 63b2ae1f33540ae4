"""Every user-facing string, in each supported locale."""

from dataclasses import dataclass
from typing import Final

_EN: Final[dict[str, str]] = {
    "space_name": "Lambda — {display_name}",
    "chat_name": "Chat {number}",
    "onboarded": (
        "Your chats live in your own Space: {space_link}\n\n"
        "Your first chat is ready: {room_link} — I have invited you to both."
    ),
    "already_onboarded": "You already have a Space with your chats: {space_link}",
    "welcome": (
        "Hi! This room is one conversation with the agent **{agent_id}**. "
        "Write a message to start; type `!help` for commands."
    ),
    "lobby_pointer": "This room is a lobby. Your chats are in your Space: {space_link} — `!help` lists the commands.",
    "lobby_no_space": "Invite me to a room to get your own Space of chats.",
    "help": (
        "**Commands**\n\n"
        "- `!help` — this list\n"
        "- `!new [name]` — a new chat room\n"
        "- `!list` — your chats\n"
        "- `!rename <name>` — rename this chat\n"
        "- `!archive` / `!restore` — archive this chat / bring it back\n"
        "- `!clear` — start this chat's context afresh\n"
        "- `!save [label]` / `!load <label>` — save / load a context snapshot\n"
        "- `!context` — what this chat is bound to\n"
        "- `!agent [id]` — list agents / switch this chat's agent"
    ),
    "unknown_command": "Unknown command `{command}`. Type `!help` for the list.",
    "agent_failed": "The agent could not answer: {reason}",
    "empty_answer": "_(the agent answered with nothing)_",
    "encrypted_unsupported": "I cannot read encrypted messages. Please write in your chat rooms: {space_link}",
}

_RU: Final[dict[str, str]] = {
    "space_name": "Lambda — {display_name}",
    "chat_name": "Чат {number}",
    "onboarded": (
        "Ваши чаты находятся в вашем пространстве: {space_link}\n\n"
        "Первый чат готов: {room_link} — я пригласил вас в оба."
    ),
    "already_onboarded": "У вас уже есть пространство с чатами: {space_link}",
    "welcome": (
        "Привет! Эта комната — один разговор с агентом **{agent_id}**. "
        "Напишите сообщение, чтобы начать; `!help` — список команд."
    ),
    "lobby_pointer": "Это лобби. Ваши чаты — в вашем пространстве: {space_link} — `!help` покажет команды.",
    "lobby_no_space": "Пригласите меня в комнату, чтобы получить своё пространство с чатами.",
    "help": (
        "**Команды**\n\n"
        "- `!help` — этот список\n"
        "- `!new [название]` — новый чат\n"
        "- `!list` — ваши чаты\n"
        "- `!rename <название>` — переименовать чат\n"
        "- `!archive` / `!restore` — архивировать чат / вернуть его\n"
        "- `!clear` — начать контекст этого чата заново\n"
        "- `!save [метка]` / `!load <метка>` — сохранить / загрузить снимок контекста\n"
        "- `!context` — к чему привязан этот чат\n"
        "- `!agent [id]` — список агентов / сменить агента этого чата"
    ),
    "unknown_command": "Неизвестная команда `{command}`. Введите `!help`, чтобы увидеть список.",
    "agent_failed": "Агент не смог ответить: {reason}",
    "empty_answer": "_(агент ничего не ответил)_",
    "encrypted_unsupported": "Я не могу читать зашифрованные сообщения. Пишите в ваших чатах: {space_link}",
}

LOCALES: Final[dict[str, dict[str, str]]] = {"en": _EN, "ru": _RU}


@dataclass(frozen=True)
class Catalog:
    """Looks up a message by key in one locale, falling back to English."""

    locale: str = "en"

    def __post_init__(self) -> None:
        if self.locale not in LOCALES:
            raise ValueError(f"unsupported locale {self.locale!r}; choose one of {sorted(LOCALES)}")

    def text(self, key: str, **values: object) -> str:
        template = LOCALES[self.locale].get(key) or _EN[key]
        return template.format(**values)
