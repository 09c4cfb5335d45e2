"""Traditional → simplified characters, limited to this domain's vocabulary.

Plans from Hong Kong/Macau/Taiwan templates or copied from 繁體 pages write 牽頭, 配合,
負責, 各業務處室 …; role words, header cells and department names must compare equal to
their simplified forms. A full converter (OpenCC, ~MBs of dictionaries, phrase-level
rules) is not needed for that: the role words, header words and department names use a
few hundred characters, each of which maps one-to-one. Only characters that never occur
in simplified text are listed, so converting simplified text is a no-op.
"""
from __future__ import annotations

# Pairs "traditional simplified", separated by spaces. Grouped loosely by theme.
_PAIRS = """
牽牵 頭头 負负 責责 處处 辦办 業业 務务 關关 屬属 單单 術术 統统 籌筹 門门 組组 監监
會会 實实 現现 將将 裝装 財财 規规 範范 審审 訴诉 應应 廳厅 區区 縣县 鎮镇 廣广 東东
號号 時时 間间 達达 導导 傳传 黨党 員员 網网 絡络 數数 據据 報报 資资 訊讯 幹干 說说
請请 無无 書书 預预 決决 進进 與与 層层 標标 準准 積积 極极 開开 條条 發发 讀读 環环
節节 訂订 計计 劃划 專专 題题 項项 點点 總总 體体 強强 續续 長长 後后 維维 護护 檢检
產产 學学 習习 級级 內内 衛卫 團团 鄉乡 試试 驗验 聯联 動动 運运 營营 證证 設设 備备
註注 對对 為为 爲为 從从 個个 們们 來来 這这 話话 電电 熱热 線线 問问 諮咨 詢询 復复
複复 議议 調调 協协 視视 頻频 際际 濟济 勞劳 醫医 療疗 藥药 養养 購购 買买 賣卖 價价
費费 質质 檔档 館馆 構构 機机 權权 盡尽 緊紧 圍围 繞绕 穩稳 優优 創创 萬万 國国 華华
藝艺 測测 評评 獎奖 懲惩 紀纪 錄录 類类 別别 參参 軍军 轉转 車车 鐵铁 銀银 錢钱 遠远
選选 舉举 擇择 執执 勢势 況况 確确 則则 結结 給给 經经 於于 並并 帳账 賬账 臺台 週周
戶户 辭辞 雙双 舊旧 聽听 啟启 啓启 園园 圖图 場场 壞坏 塊块 堅坚 聲声 夠够 寧宁 憲宪
歲岁 島岛 幣币 師师 帶带 幫帮 莊庄 慶庆 庫库 廢废 異异 張张 彈弹 歸归 當当 徹彻 徑径
憶忆 懷怀 態态 惡恶 驚惊 懼惧 慣惯 願愿 戰战 擴扩 掃扫 揚扬 擾扰 擔担 擬拟 擁拥 掛挂
揮挥 損损 換换 攜携 攝摄 擺摆 敵敌 斂敛 斷断 曉晓 暫暂 雜杂 樣样 樹树 橋桥 夢梦 樓楼
橫横 歡欢 歐欧 殘残 毀毁 畢毕 氣气 漢汉 湯汤 溝沟 沒没 潔洁 淺浅 濃浓 潤润 漲涨 漸渐
溫温 灣湾 濕湿 滿满 濾滤 濫滥 潛潜 災灾 燈灯 靈灵 爐炉 煉炼 爛烂 煙烟 煩烦 燒烧 愛爱
犧牺 狀状 獨独 獄狱 獻献 瑣琐 畫画 暢畅 盤盘 礎础 禮礼 禍祸 離离 種种 稱称 窮穷 競竞
筆笔 築筑 簽签 簡简 糧粮 紅红 約约 納纳 純纯 紙纸 紛纷 細细 終终 絕绝 絲丝 綠绿 綜综
綱纲 編编 練练 緣缘 績绩 織织 繼继 纖纤 罰罚 罷罢 羅罗 職职 聰聪 肅肃 腦脑 脫脱 臨临
艱艰 蘇苏 獲获 穫获 蕭萧 薦荐 藍蓝 蟲虫 補补 製制 見见 觀观 覽览 覺觉 觸触 認认 討讨
訓训 記记 許许 論论 訪访 詞词 詳详 誌志 語语 誤误 課课 誰谁 談谈 諸诸 謀谋 講讲 謝谢
識识 譯译 譽誉 變变 讓让 豐丰 貝贝 貢贡 貨货 販贩 貴贵 貸贷 貿贸 賀贺 賓宾 賞赏 賠赔
賴赖 賽赛 贊赞 贏赢 趕赶 趨趋 跡迹 踐践 軟软 較较 載载 輔辅 輕轻 輪轮 輸输 農农 邊边
遞递 遷迁 遺遗 還还 郵邮 鄰邻 釋释 針针 鋼钢 錯错 鏈链 鐘钟 閉闭 閒闲 閑闲 閱阅 闊阔
隊队 階阶 陽阳 隨随 險险 隱隐 難难 雲云 靜静 響响 頁页 頂顶 順顺 須须 領领 額额 顏颜
顧顾 顯显 風风 飛飞 飲饮 驅驱 髮发 鬥斗 魚鱼 鳥鸟 麼么 黃黄 齊齐 齡龄 龍龙 廈厦 衝冲
裏里 裡里 託托 陳陈 劉刘 楊杨 趙赵 吳吴 鄭郑 歷历 曆历 彙汇 匯汇 隻只 係系 繫系 採采
凱凯 憑凭 擊击 勵励 廠厂 壓压 嚴严 夾夹 婦妇 孫孙 寶宝 尋寻 嶺岭 廟庙 彌弥 彎弯 徵征
憂忧 撥拨 齋斋 晉晋 棄弃 樂乐 殺杀 淨净 減减 滅灭 漁渔 鹽盐 蓋盖 碼码 礦矿 稅税 財财
訊讯 剛刚 勝胜 匯汇 卻却 問问 嚮向 圓圆 壇坛 奮奋 妝妆 婁娄 寬宽 導导 屆届 嶼屿 幟帜
廬庐 彥彦 懇恳 戲戏 扎扎 拋抛 摯挚 撐撑 擋挡 擠挤 攔拦 攤摊 敘叙 晝昼 暈晕 曬晒 朧胧
梘枧 棟栋 極极 榮荣 槍枪 樞枢 歎叹 毆殴 氈毡 決决 沖冲 洩泄 淪沦 滬沪 瀏浏 灘滩 烏乌
煥焕 犯犯 狹狭 猶犹 獅狮 璽玺 甦苏 畝亩 瘋疯 盜盗 睜睁 矯矫 硯砚 禦御 稟禀 穀谷 窯窑
竊窃 筍笋 範范 篩筛 簾帘 籃篮 糾纠 紡纺 紮扎 紹绍 絡络 綁绑 綿绵 緒绪 締缔 縮缩 縱纵
繁繁 繪绘 缽钵 罈坛 翹翘 聖圣 膚肤 艦舰 蔣蒋 蕩荡 虧亏 蝦虾 螢萤 衛卫 裝装 褲裤 襯衬
覓觅 訂订 訝讶 詐诈 該该 誇夸 誠诚 誘诱 諒谅 謊谎 謹谨 譜谱 貧贫 貫贯 貼贴 賊贼 賦赋
賤贱 賺赚 贈赠 趙赵 跡迹 軌轨 軒轩 軸轴 輛辆 輩辈 輯辑 轄辖 辦办 遜逊 遲迟 適适 醬酱
鈔钞 鈴铃 鉛铅 銅铜 鋪铺 鋒锋 錦锦 鍵键 鎖锁 鏡镜 閃闪 閣阁 閥阀 闖闯 陣阵 陸陆 隸隶
雖虽 雜杂 雞鸡 霧雾 頑顽 頓顿 頗颇 頸颈 頻频 顆颗 颱台 飯饭 飼饲 飽饱 飾饰 餅饼 餘余
馬马 駐驻 駕驾 騎骑 騰腾 驗验 髒脏 鬆松 魯鲁 鮮鲜 鴻鸿 鹹咸 麥麦 黨党 齒齿 龜龟
"""


def _table() -> dict[int, str]:
    """Build a str.translate table, skipping identity pairs left in for readability."""
    mapping: dict[int, str] = {}
    for pair in _PAIRS.split():
        if len(pair) == 2 and pair[0] != pair[1]:
            mapping[ord(pair[0])] = pair[1]
    return mapping


TRADITIONAL_TO_SIMPLIFIED: dict[int, str] = _table()
_TRADITIONAL_CHARS = frozenset(map(chr, TRADITIONAL_TO_SIMPLIFIED))  # set lookups run in C


def to_simplified(text: str) -> str:
    """Convert the domain's traditional characters to simplified; other text unchanged."""
    return text.translate(TRADITIONAL_TO_SIMPLIFIED)


def has_traditional(text: str) -> bool:
    """Whether the text contains any character of the table (used for a one-line warning)."""
    return not _TRADITIONAL_CHARS.isdisjoint(text)
