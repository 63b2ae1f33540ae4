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
        "- `!agent [id]` — list agents / switch this chat's agent\n"
        "- `!stop` — stop the answer being written (redacting your question does the same)\n"
        "- `!retry` — a new answer in place of the latest one (a 🔁 reaction on it does the same; "
        "editing your latest question answers the edited text)"
    ),
    "nothing_to_retry": "There is no answer here to generate again yet.",
    "transcriber_retrying": "I cannot transcribe your voice message right now; I will keep trying and answer here.",
    "transcriber_gave_up": (
        "I could not transcribe your voice message for a while and gave up ({reason}). Please send it again."
    ),
    "image_too_large_to_see": (
        "{name} is larger than the {limit} the model can look at, so the agent gets it only as a file."
    ),
    "retry_only_latest": (
        "Only the latest answer can be generated again: react with 🔁 to that one, or type `!retry`."
    ),
    "edit_only_latest": (
        "Only your latest answered question can be edited to get a new answer; I left this edit alone."
    ),
    "stopped_mark": "_(stopped)_",
    "nothing_to_stop": "There is no answer being written to stop.",
    "unknown_command": "Unknown command `{command}`. Type `!help` for the commands.",
    "agent_failed": "The agent could not answer: {reason}",
    "empty_answer": "_(the agent answered with nothing)_",
    "agent_retrying": "The agent is not reachable right now; I will keep trying and answer here.",
    "agent_gave_up": (
        "I could not reach the agent for a while and gave up on this message ({reason}). Please send it again."
    ),
    "slow_down": "You are sending messages faster than the agent can take them; I skip some until you slow down.",
    "command_error": "{error} Type `!help` for the commands.",
    "only_in_chat": "`!{command}` works in a chat room, not here.",
    "not_in_lobby": "`!{command}` works in your chat rooms; here I answer `!help`, `!new` and `!list`.",
    "chat_created": "New chat **{name}**: {room_link}",
    "chat_list_header": "**Your chats**",
    "chat_list_item": "- {name} ({chat_id}){archived}: {room_link}",
    "chat_list_archived": ", archived",
    "no_chats": "You have no chats yet.",
    "name_required": "Give a name: `!rename <name>`.",
    "name_invalid": "A name must be one line of at most {limit} characters.",
    "renamed": "Renamed to **{name}**.",
    "archived": "This chat is archived and has left your Space. `!restore` brings it back.",
    "archived_notice": "This chat is archived, so I do not answer here. `!restore` brings it back.",
    "message_unreadable": "I could not read your message: its encryption key did not reach me. Please send it again.",
    "already_archived": "This chat is already archived.",
    "not_archived": "This chat is not archived.",
    "restored": "This chat is back in your Space.",
    "cleared": "Context cleared: this chat starts afresh (other chats are untouched).",
    "label_required": "Give a label: `!load <label>`.",
    "label_invalid": "A label is 1–{limit} letters, digits, `-`, `_` or `.`.",
    "saved": "Saved this chat's context as **{label}**.",
    "snapshot_missing": "You have no snapshot called **{label}**.",
    "loaded": "Loaded **{label}** into this chat.",
    "no_context_transfer": "The agent **{agent_id}** cannot save or load context.",
    "context": (
        "**This chat**\n\n"
        "- agent: `{agent_id}`\n"
        "- platform_chat_id: `{platform_chat_id}`\n"
        "- messages: {message_count}\n"
        "- staged files: {staged}\n"
        "- your snapshots: {snapshots}"
    ),
    "none": "none",
    "agent_list_header": "**Agents** (this chat: `{current}`)",
    "agent_list_item": "- `{agent_id}`{marker}: {description}",
    "agent_unknown": "There is no agent `{agent_id}`. `!agent` lists them.",
    "agent_same": "This chat already talks to `{agent_id}`.",
    "agent_switched": "This chat now talks to `{agent_id}`, with a fresh context.",
    "encrypted_unsupported": "I cannot read encrypted messages. Please write in your chat rooms: {space_link}",
    "file_staged": "📎 Got {name} ({size}); it goes to the agent with your next message here.",
    "file_too_large": "{name} is larger than the limit of {limit}, so I did not keep it.",
    "file_download_failed": "I could not fetch {name} from the homeserver; please send it again.",
    "file_integrity_failed": "{name} did not match its checksum (it was altered or damaged on the way), "
    "so I did not keep it; please send it again.",
    "workspace_unavailable": "I could not store {name}: the shared workspace cannot be written right now. "
    "Please send it again later.",
    "agent_file_refused": "The agent's file {path} was not sent: {reason}.",
    "agent_file_too_large": "The agent's file {path} was not sent: it is larger than the limit of {limit}.",
    "agent_file_failed": "The agent's file {path} could not be uploaded; please ask again.",
    "refusal_invalid": "the path is empty or malformed",
    "refusal_absolute": "absolute paths are not allowed",
    "refusal_climbs": "paths may not contain `..`",
    "refusal_escapes": "it points outside the shared workspace",
    "refusal_missing": "there is no such file in the workspace",
    "refusal_not_regular": "it is not a regular file",
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
        "- `!agent [id]` — список агентов / сменить агента этого чата\n"
        "- `!stop` — остановить ответ, который сейчас пишется (то же делает удаление вашего вопроса)\n"
        "- `!retry` — новый ответ вместо последнего (то же делает реакция 🔁 на него; "
        "правка последнего вопроса даёт ответ на исправленный текст)"
    ),
    "nothing_to_retry": "Здесь пока нет ответа, который можно сгенерировать заново.",
    "transcriber_retrying": (
        "Сейчас не получается распознать ваше голосовое сообщение; я буду пробовать и отвечу здесь."
    ),
    "transcriber_gave_up": (
        "Не удалось распознать ваше голосовое сообщение за отведённое время ({reason}). "
        "Пожалуйста, отправьте его снова."
    ),
    "image_too_large_to_see": (
        "{name} больше {limit}, которые модель может рассмотреть, поэтому агент получит его только как файл."
    ),
    "retry_only_latest": (
        "Заново можно сгенерировать только последний ответ: поставьте 🔁 на него или введите `!retry`."
    ),
    "edit_only_latest": (
        "Новый ответ даёт только правка вашего последнего вопроса с ответом; эту правку я оставил без ответа."
    ),
    "stopped_mark": "_(остановлено)_",
    "nothing_to_stop": "Сейчас нет ответа, который можно остановить.",
    "unknown_command": "Неизвестная команда `{command}`. Введите `!help`, чтобы увидеть список.",
    "agent_failed": "Агент не смог ответить: {reason}",
    "empty_answer": "_(агент ничего не ответил)_",
    "agent_retrying": "Агент сейчас недоступен; я продолжу попытки и отвечу здесь.",
    "agent_gave_up": (
        "Я долго не мог связаться с агентом и отказался от этого сообщения ({reason}). "
        "Пожалуйста, отправьте его ещё раз."
    ),
    "slow_down": (
        "Вы отправляете сообщения быстрее, чем агент успевает их обработать; часть я пропущу, пока вы не замедлитесь."
    ),
    "command_error": "{error} Введите `!help`, чтобы увидеть команды.",
    "only_in_chat": "`!{command}` работает в комнате чата, не здесь.",
    "not_in_lobby": "`!{command}` работает в ваших чатах; здесь я отвечаю на `!help`, `!new` и `!list`.",
    "chat_created": "Новый чат **{name}**: {room_link}",
    "chat_list_header": "**Ваши чаты**",
    "chat_list_item": "- {name} ({chat_id}){archived}: {room_link}",
    "chat_list_archived": ", в архиве",
    "no_chats": "У вас пока нет чатов.",
    "name_required": "Укажите название: `!rename <название>`.",
    "name_invalid": "Название — одна строка длиной не более {limit} символов.",
    "renamed": "Новое название: **{name}**.",
    "archived": "Чат перенесён в архив и убран из пространства. `!restore` вернёт его.",
    "archived_notice": "Этот чат в архиве, поэтому я здесь не отвечаю. `!restore` вернёт его.",
    "message_unreadable": "Я не смог прочитать ваше сообщение: ключ шифрования до меня не дошёл. "
    "Пожалуйста, отправьте его ещё раз.",
    "already_archived": "Этот чат уже в архиве.",
    "not_archived": "Этот чат не в архиве.",
    "restored": "Чат снова в вашем пространстве.",
    "cleared": "Контекст очищен: этот чат начинается заново (другие чаты не затронуты).",
    "label_required": "Укажите метку: `!load <метка>`.",
    "label_invalid": "Метка — от 1 до {limit} букв, цифр, `-`, `_` или `.`.",
    "saved": "Контекст чата сохранён как **{label}**.",
    "snapshot_missing": "У вас нет снимка **{label}**.",
    "loaded": "Снимок **{label}** загружен в этот чат.",
    "no_context_transfer": "Агент **{agent_id}** не умеет сохранять и загружать контекст.",
    "context": (
        "**Этот чат**\n\n"
        "- агент: `{agent_id}`\n"
        "- platform_chat_id: `{platform_chat_id}`\n"
        "- сообщений: {message_count}\n"
        "- ожидающие файлы: {staged}\n"
        "- ваши снимки: {snapshots}"
    ),
    "none": "нет",
    "agent_list_header": "**Агенты** (в этом чате: `{current}`)",
    "agent_list_item": "- `{agent_id}`{marker}: {description}",
    "agent_unknown": "Агента `{agent_id}` нет. `!agent` покажет список.",
    "agent_same": "Этот чат уже работает с `{agent_id}`.",
    "agent_switched": "Теперь этот чат работает с `{agent_id}`, контекст начат заново.",
    "encrypted_unsupported": "Я не могу читать зашифрованные сообщения. Пишите в ваших чатах: {space_link}",
    "file_staged": "📎 Получил {name} ({size}); файл уйдёт агенту с вашим следующим сообщением здесь.",
    "file_too_large": "{name} больше допустимых {limit}, поэтому я его не сохранил.",
    "file_download_failed": "Не удалось получить {name} с сервера; отправьте файл ещё раз.",
    "file_integrity_failed": "{name} не совпал со своей контрольной суммой (изменён или повреждён по пути), "
    "поэтому я его не сохранил; отправьте файл ещё раз.",
    "workspace_unavailable": "Не удалось сохранить {name}: общая рабочая папка сейчас недоступна для записи. "
    "Отправьте файл позже.",
    "agent_file_refused": "Файл агента {path} не отправлен: {reason}.",
    "agent_file_too_large": "Файл агента {path} не отправлен: он больше допустимых {limit}.",
    "agent_file_failed": "Не удалось загрузить файл агента {path}; попросите ещё раз.",
    "refusal_invalid": "путь пустой или некорректный",
    "refusal_absolute": "абсолютные пути запрещены",
    "refusal_climbs": "путь не может содержать `..`",
    "refusal_escapes": "он указывает за пределы общей рабочей папки",
    "refusal_missing": "такого файла в рабочей папке нет",
    "refusal_not_regular": "это не обычный файл",
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
