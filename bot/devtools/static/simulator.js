// The chat simulator page: a phone-like LINE chat backed by /_dev/chat/api.
// Every piece of message text reaches the page as a DOM text node, never as HTML.
"use strict";

(() => {
  const USERS = document.body.dataset.api;
  const API = USERS.replace(/\/users$/, "");
  const $ = (id) => document.getElementById(id);
  const log = $("log");

  let userId = localStorage.getItem("furusato.simulator.user");
  let shown = "";          // the history JSON last rendered: redraw only when it changes
  let entryCount = 0;
  let menuHidden = false;
  let datetimeAction = null;

  // DOM ---------------------------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "style") {
        for (const [name, css] of Object.entries(value)) if (css != null) node.style[name] = css;
      } else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  const clock = (at) => new Date(at * 1000).toLocaleTimeString("ja-JP");
  const note = (...text) => el("p", {class: "note"}, ...text);

  function flash(message) {
    const status = $("status");
    status.textContent = message;
    status.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { status.hidden = true; }, 6000);
  }

  // API ---------------------------------------------------------------------------------------

  async function call(method, path, body) {
    const options = {method};
    if (body instanceof FormData) options.body = body;
    else if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers = {"Content-Type": "application/json"};
    }
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({error: response.statusText}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  const userPath = (suffix) => `${USERS}/${encodeURIComponent(userId)}/${suffix}`;

  async function act(path, body) {
    if (!userId) return flash("ユーザーを選んでください (choose a user first)");
    try {
      await call("POST", path, body);
    } catch (error) {
      flash(error.message);
    }
    await refresh();
  }

  const send = (event) => act(userPath("events"), event);

  // Actions: what a tap on a button, chip or rich-menu area does in LINE ---------------------

  function perform(action) {
    switch (action.type) {
      case "message":
        return send({type: "text", text: action.text});
      case "postback":
        if (action.inputOption === "openKeyboard") {
          $("text").value = action.fillInText || "";
          $("text").focus();
        }
        return send({type: "postback", data: action.data, displayText: action.displayText});
      case "uri":
        return openUri(action.altUri?.desktop || action.uri);
      case "datetimepicker":
        return pickDatetime(action);
      case "location":
        return $("location-dialog").showModal();
      case "camera":
      case "cameraRoll":
        return $("image-file").click();
      default:
        return flash(`未対応のアクション (unsupported action): ${action.type}`);
    }
  }

  function openUri(uri) {
    if (/^(https?|line|tel|mailto):/i.test(uri)) window.open(uri, "_blank", "noopener");
    else flash(`開けないURI (refused): ${uri}`);
  }

  function pickDatetime(action) {
    const input = $("datetime-form").elements.picked;
    input.type = {date: "date", time: "time", datetime: "datetime-local"}[action.mode] || "date";
    input.value = action.initial || "";
    input.min = action.min || "";
    input.max = action.max || "";
    datetimeAction = action;
    $("datetime-title").firstChild.textContent = `${action.label || action.mode} `;
    $("datetime-dialog").showModal();
  }

  function clickable(node, action) {
    if (!action) return node;
    node.classList.add("tappable");
    node.addEventListener("click", (event) => {
      event.stopPropagation();
      perform(action);
    });
    return node;
  }

  const actionButton = (action, className) =>
    clickable(el("button", {type: "button", class: className}, action.label || action.type), action);

  // History -----------------------------------------------------------------------------------

  function row(side, at, label, ...content) {
    return el("div", {class: `row ${side}`}, ...content,
              el("time", {}, label ? `${label} ${clock(at)}` : clock(at)));
  }

  const textBubble = (text) => el("div", {class: "bubble text"}, text);

  function userEntry(entry) {
    const parts = [];
    switch (entry.type) {
      case "text":
        parts.push(row("user", entry.at, "", textBubble(entry.text)));
        break;
      case "postback":
        if (entry.displayText) parts.push(row("user", entry.at, "", textBubble(entry.displayText)));
        parts.push(note(`postback: ${entry.data}`, entry.params ? ` ${JSON.stringify(entry.params)}` : ""));
        break;
      case "location":
        parts.push(row("user", entry.at, "", el("div", {class: "bubble text"},
          "📍 ", entry.title || "位置情報", el("br"),
          el("small", {}, `${entry.latitude}, ${entry.longitude}`))));
        break;
      case "image":
        parts.push(row("user", entry.at, "", el("img", {
          class: "photo", alt: "image", src: `${API}/images/${encodeURIComponent(entry.messageId)}`})));
        break;
      case "follow":
        parts.push(note(entry.unblocked ? "ブロック解除 (follow, unblocked)" : "友だち追加 (follow)",
                        ` ${clock(entry.at)}`));
        break;
      case "unfollow":
        parts.push(note(`ブロック (unfollow) ${clock(entry.at)}`));
        break;
    }
    const callback = entry.callback;
    if (!callback) parts.push(note("送信中… (posting to /callback)"));
    else if (!(callback.status >= 200 && callback.status < 300)) {
      parts.push(el("p", {class: "error"},
        `/callback ${callback.status ?? "unreachable"}: ${callback.error || ""}`));
    }
    return parts;
  }

  function botEntry(entry) {
    return entry.messages.map((message) => {
      const hover = message.altText ? {title: message.altText} : {};
      return row("bot", entry.at, entry.via, el("div", {class: "message", ...hover}, botMessage(message)));
    });
  }

  function botMessage(message) {
    switch (message.type) {
      case "text":
      case "textV2":
        return textBubble(message.text);
      case "image":
        return el("img", {class: "photo", alt: "image", src: message.previewImageUrl || message.originalContentUrl});
      case "sticker":
        return el("div", {class: "sticker"}, "🧸",
                  el("small", {}, `sticker ${message.packageId}/${message.stickerId}`));
      case "location":
        return el("div", {class: "bubble text"}, "📍 ", message.title, el("br"),
                  el("small", {}, message.address, el("br"), `${message.latitude}, ${message.longitude}`));
      case "template":
        return template(message.template);
      case "flex":
        return flex(message.contents);
      default:
        return el("div", {class: "bubble text muted"}, `[${message.type}] ${message.altText || ""}`);
    }
  }

  function quickReply(entries) {
    const box = $("quick-reply");
    const last = entries[entries.length - 1];
    const items = last?.from === "bot" ? last.messages[last.messages.length - 1].quickReply?.items : null;
    box.replaceChildren(...(items || []).map((item) => clickable(
      el("button", {type: "button", class: "chip"},
         item.imageUrl && el("img", {src: item.imageUrl, alt: ""}), item.action.label), item.action)));
  }

  // Template messages -------------------------------------------------------------------------

  function template(t) {
    switch (t.type) {
      case "buttons":
        return templateColumn(t, t);
      case "confirm":
        return el("div", {class: "template confirm"}, el("p", {}, t.text),
                  el("div", {class: "template-actions"}, t.actions.map((a) => actionButton(a))));
      case "carousel":
        return el("div", {class: "carousel"}, t.columns.map((column) => templateColumn(column, t)));
      case "image_carousel":
        return el("div", {class: "carousel"}, t.columns.map((column) => clickable(
          el("div", {class: "template image-column"}, el("img", {src: column.imageUrl, alt: ""}),
             el("span", {}, column.action.label || "")), column.action)));
      default:
        return el("div", {class: "bubble text muted"}, `[template ${t.type}]`);
    }
  }

  function templateColumn(column, t) {
    const card = el("div", {class: "template"},
      column.thumbnailImageUrl && el("img", {class: "thumbnail", src: column.thumbnailImageUrl, alt: "", style: {
        aspectRatio: t.imageAspectRatio === "square" ? "1" : "1.51",
        objectFit: t.imageSize === "contain" ? "contain" : "cover",
        backgroundColor: column.imageBackgroundColor}}),
      column.title && el("h3", {}, column.title),
      el("p", {}, column.text),
      el("div", {class: "template-actions"}, (column.actions || []).map((a) => actionButton(a))));
    return clickable(card, column.defaultAction);
  }

  // Flex messages -----------------------------------------------------------------------------

  const SPACING = {none: "0", xs: "2px", sm: "4px", md: "8px", lg: "12px", xl: "16px", xxl: "20px"};
  const BORDER = {none: "0", light: "0.5px", normal: "1px", medium: "2px", "semi-bold": "3px", bold: "4px"};
  const TEXT_SIZE = {xxs: "11px", xs: "13px", sm: "14px", md: "16px", lg: "19px", xl: "22px",
                     xxl: "29px", "3xl": "35px", "4xl": "48px", "5xl": "74px"};
  const IMAGE_SIZE = {xxs: "40px", xs: "60px", sm: "80px", md: "100px", lg: "120px", xl: "140px",
                      xxl: "160px", "3xl": "180px", "4xl": "200px", "5xl": "220px", full: "100%"};
  const BUBBLE_WIDTH = {nano: "120px", micro: "160px", deca: "220px", hecto: "241px", kilo: "260px",
                        mega: "300px", giga: "386px"};
  const GRAVITY = {top: "flex-start", center: "center", bottom: "flex-end"};
  const ALIGN = {start: "flex-start", center: "center", end: "flex-end"};
  // Components that do not stretch in a horizontal box unless given a flex.
  const FIXED = {icon: 0, separator: 0, spacer: 0, filler: 1};

  const size = (table, value) => (value === undefined ? undefined : table[value] ?? value);
  const ratio = (value) => (value || "1:1").replace(":", " / ");

  function flex(container) {
    if (container.type === "carousel") return el("div", {class: "carousel"}, container.contents.map(bubble));
    return bubble(container);
  }

  function bubble(b) {
    const styles = b.styles || {};
    const node = el("div", {class: "flex-bubble", dir: b.direction === "rtl" ? "rtl" : undefined,
                            style: {width: BUBBLE_WIDTH[b.size || "mega"]}});
    for (const part of ["header", "hero", "body", "footer"]) {
      if (!b[part]) continue;
      const style = styles[part] || {};
      node.append(el("div", {class: `flex-${part}`, style: {
        backgroundColor: style.backgroundColor,
        borderTop: style.separator ? `1px solid ${style.separatorColor || "#ddd"}` : undefined,
      }}, component(b[part], "vertical")));
    }
    return clickable(node, b.action);
  }

  const COMPONENTS = {
    box: (c) => {
      const node = el("div", {class: `flex-box ${c.layout}`, style: {
        gap: size(SPACING, c.spacing),
        padding: size(SPACING, c.paddingAll),
        paddingTop: size(SPACING, c.paddingTop), paddingBottom: size(SPACING, c.paddingBottom),
        paddingLeft: size(SPACING, c.paddingStart), paddingRight: size(SPACING, c.paddingEnd),
        backgroundColor: c.backgroundColor,
        background: c.background?.type === "linearGradient"
          ? `linear-gradient(${c.background.angle}, ${c.background.startColor}, ${c.background.endColor})`
          : undefined,
        border: c.borderWidth ? `${size(BORDER, c.borderWidth)} solid ${c.borderColor || "#000"}` : undefined,
        borderRadius: size(SPACING, c.cornerRadius),
        width: c.width, maxWidth: c.maxWidth, height: c.height, maxHeight: c.maxHeight,
        justifyContent: c.justifyContent, alignItems: c.alignItems,
      }});
      node.append(...c.contents.map((child) => component(child, c.layout)));
      return node;
    },
    text: (c) => el("div", {class: `flex-text${c.wrap ? " wrap" : ""}`, style: {
      fontSize: size(TEXT_SIZE, c.size || "md"), fontWeight: c.weight === "bold" ? "bold" : undefined,
      color: c.color,
      textAlign: c.align, fontStyle: c.style, textDecoration: c.decoration,
      alignSelf: GRAVITY[c.gravity],
    }}, c.contents?.length ? c.contents.map((span) => el("span", {style: {
      fontSize: size(TEXT_SIZE, span.size), fontWeight: span.weight === "bold" ? "bold" : undefined,
      color: span.color,
      fontStyle: span.style, textDecoration: span.decoration}}, span.text)) : c.text),
    button: (c) => el("button", {type: "button", class: `flex-button ${c.style || "link"} ${c.height || "md"}`,
      style: c.style === "primary" || c.style === "secondary"
        ? {backgroundColor: c.color} : {color: c.color}}, c.action.label || ""),
    image: (c) => el("div", {class: "flex-image", style: {justifyContent: ALIGN[c.align || "center"],
                                                          alignSelf: GRAVITY[c.gravity]}},
      el("img", {src: c.url, alt: "", style: {
        width: size(IMAGE_SIZE, c.size || "md"), aspectRatio: ratio(c.aspectRatio),
        objectFit: c.aspectMode === "cover" ? "cover" : "contain", backgroundColor: c.backgroundColor}})),
    icon: (c) => el("img", {class: "flex-icon", src: c.url, alt: "", style: {
      height: size(TEXT_SIZE, c.size || "md"), aspectRatio: ratio(c.aspectRatio)}}),
    separator: (c) => el("div", {class: "flex-separator", style: {borderColor: c.color}}),
    filler: () => el("div", {class: "flex-filler"}),
    spacer: (c) => el("div", {style: {minHeight: size(SPACING, c.size || "md"), minWidth: size(SPACING, c.size || "md")}}),
    video: (c) => component(c.altContent, "vertical"),
  };

  function component(c, parentLayout) {
    const render = COMPONENTS[c.type];
    const node = render ? render(c) : el("div", {class: "muted"}, `[${c.type}]`);
    const horizontal = parentLayout !== "vertical";
    // LINE's flex: children of a horizontal box share its width (default 1); in a vertical box
    // they keep their natural height (default 0).
    const grow = c.flex ?? FIXED[c.type] ?? (horizontal ? 1 : 0);
    node.style.flex = grow > 0 ? `${grow} 1 0` : "0 0 auto";
    if (c.margin) node.style[horizontal ? "marginInlineStart" : "marginTop"] = size(SPACING, c.margin);
    if (c.position === "absolute") node.style.position = "absolute";
    for (const [offset, css] of [["offsetTop", "top"], ["offsetBottom", "bottom"],
                                 ["offsetStart", "left"], ["offsetEnd", "right"]]) {
      if (c[offset]) node.style[css] = size(SPACING, c[offset]);
    }
    return clickable(node, c.action);
  }

  // Rich menu ---------------------------------------------------------------------------------

  const percent = (part, whole) => `${(100 * part) / whole}%`;

  function richMenu(menu) {
    const box = $("rich-menu");
    const toggle = $("toggle-menu");
    const key = menu ? `${menu.richMenuId}:${menu.hasImage}` : "";
    toggle.hidden = !menu;
    if (box.dataset.key !== key) {
      box.dataset.key = key;
      box.replaceChildren();
      if (menu) {
        const {size: dimensions, areas, chatBarText, selected} = menu.menu;
        const frame = el("div", {class: "rich-menu-frame",
                                 style: {aspectRatio: `${dimensions.width} / ${dimensions.height}`}},
          menu.hasImage && el("img", {alt: chatBarText,
            src: `${API}/richmenus/${encodeURIComponent(menu.richMenuId)}/image`}));
        for (const {bounds, action} of areas) {
          frame.append(clickable(el("button", {type: "button", class: "rich-menu-area",
            title: action.label || action.type, style: {
              left: percent(bounds.x, dimensions.width), top: percent(bounds.y, dimensions.height),
              width: percent(bounds.width, dimensions.width), height: percent(bounds.height, dimensions.height),
            }}, menu.hasImage ? "" : action.label || action.type), action));
        }
        box.append(frame);
        toggle.textContent = `☰ ${chatBarText}`;
        menuHidden = !selected;
      }
    }
    box.hidden = !menu || menuHidden;
  }

  // Rendering and polling ---------------------------------------------------------------------

  function render(data) {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
    const entries = data ? data.entries : [];
    log.replaceChildren(...entries.flatMap((entry) => (entry.from === "bot" ? botEntry(entry) : userEntry(entry))));
    if (!data) log.append(note("ユーザーを選ぶか作成してください (choose or create a user)"));
    else if (!entries.length) log.append(note("まだ何もありません (nothing yet)"));
    if (atBottom || entries.length !== entryCount) log.scrollTop = log.scrollHeight;
    entryCount = entries.length;
    quickReply(entries);
    richMenu(data?.richMenu);
    const block = $("block");
    block.hidden = !data;
    block.textContent = data?.blocked ? "ブロック解除 (unblock)" : "ブロック (block)";
    block.dataset.blocked = data?.blocked ? "yes" : "";
  }

  async function refresh() {
    const asked = userId;
    if (!asked) {
      shown = "";
      return render(null);
    }
    let data;
    try {
      data = await call("GET", userPath("history"));
    } catch (error) {
      return flash(error.message);
    }
    const json = JSON.stringify(data);
    if (asked !== userId || json === shown) return;
    shown = json;
    render(data);
  }

  async function poll() {
    await refresh();
    setTimeout(poll, 1000);
  }

  async function loadUsers() {
    const {users} = await call("GET", USERS);
    if (!users.some((user) => user.userId === userId)) userId = null;
    const languages = {ja: "日本語", en: "English"};
    $("user").replaceChildren(el("option", {value: ""}, "— ユーザーを選択 (user) —"),
      ...users.map((user) => el("option", {value: user.userId},
        `${user.displayName ?? user.userId} · ${languages[user.language] ?? user.language ?? "言語なし"}`)));
    $("user").value = userId || "";
  }

  function selectUser(id) {
    userId = id || null;
    if (userId) localStorage.setItem("furusato.simulator.user", userId);
    shown = "";
    entryCount = 0;
    refresh();
  }

  // Wiring ------------------------------------------------------------------------------------

  $("user").addEventListener("change", (event) => selectUser(event.target.value));
  $("new-user").addEventListener("click", () => $("user-dialog").showModal());
  $("block").addEventListener("click", (event) =>
    send({type: event.target.dataset.blocked ? "follow" : "unfollow"}));
  $("toggle-menu").addEventListener("click", () => {
    menuHidden = !menuHidden;
    $("rich-menu").hidden = menuHidden;
  });

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("text").value = "";
    send({type: "text", text});
  });
  $("text").addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter breaks the line; Enter that confirms a kana-kanji conversion does neither.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("open-location").addEventListener("click", () => $("location-dialog").showModal());
  $("open-image").addEventListener("click", () => $("image-file").click());
  $("image-file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    act(userPath("images"), form);
  });

  // Dialog forms close themselves (method="dialog"); act only when "ok" submitted them.
  function onDialog(formId, handler) {
    $(formId).addEventListener("submit", (event) => {
      if (event.submitter?.value === "ok") handler(event.target.elements);
    });
  }

  onDialog("user-form", async (fields) => {
    try {
      const {user} = await call("POST", USERS, {
        displayName: fields.displayName.value, language: fields.language.value || null});
      userId = user.userId;
      await loadUsers();
      selectUser(user.userId);
    } catch (error) {
      flash(error.message);
    }
  });

  for (const preset of document.querySelectorAll(".presets button")) {
    preset.addEventListener("click", () => {
      const fields = $("location-form").elements;
      fields.latitude.value = preset.dataset.lat;
      fields.longitude.value = preset.dataset.lng;
      fields.title.value = preset.textContent;
    });
  }
  onDialog("location-form", (fields) => send({type: "location",
    latitude: Number(fields.latitude.value), longitude: Number(fields.longitude.value),
    title: fields.title.value || undefined}));

  onDialog("datetime-form", (fields) => send({type: "postback", data: datetimeAction.data,
    params: {[datetimeAction.mode]: fields.picked.value}}));

  loadUsers().catch((error) => flash(error.message)).then(poll);
})();
