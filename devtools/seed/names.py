"""Name material for demo customers and staff (common Chinese surnames and given-name
characters, weighted roughly by frequency; English names for expatriate customers)."""

# The most common surnames first: the generator favours the head of the list.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "慕容")

GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华文建国志海红玉兰秀燕鹏飞宇浩婷雪梅琳晨欣怡"
    "子轩涵佳俊博诗雨思梓睿晓嘉慧颖凯鑫斌波辉毅峰龙云宁坤琪瑶丹萍亮健彬倩蕾璐岚泽阳春秋冬松"
)

ENGLISH_FIRST = (
    "James",
    "Mary",
    "John",
    "Linda",
    "Michael",
    "Emma",
    "David",
    "Sophie",
    "Robert",
    "Olivia",
    "William",
    "Emily",
    "Thomas",
    "Charlotte",
    "Daniel",
    "Hannah",
    "Peter",
    "Laura",
    "Mark",
    "Anna",
    "Paul",
    "Grace",
    "Andrew",
    "Chloe",
    "Lucas",
    "Mia",
    "Oliver",
    "Isabelle",
    "Henry",
    "Julia",
)
ENGLISH_LAST = (
    "Smith",
    "Johnson",
    "Brown",
    "Miller",
    "Wilson",
    "Taylor",
    "Anderson",
    "Thomas",
    "Martin",
    "Garcia",
    "Kim",
    "Nguyen",
    "Tanaka",
    "Müller",
    "Dubois",
    "Rossi",
    "Walker",
    "Harris",
    "Clark",
    "Lewis",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
)

# Business customers (tiers A and B): "<prefix><trade>" + legal form.
BUSINESS_PREFIXES = (
    "滨江",
    "鑫源",
    "恒通",
    "华泰",
    "金鼎",
    "宏发",
    "东方",
    "新世纪",
    "永安",
    "瑞丰",
    "德润",
    "天和",
    "嘉禾",
    "盛达",
    "长青",
    "汇丰源",
    "明珠",
    "正大",
    "光华",
    "博远",
)
BUSINESS_TRADES_B = (
    "餐饮管理",
    "酒店",
    "火锅店",
    "面馆",
    "烘焙坊",
    "洗衣店",
    "美容美发",
    "超市",
    "便利店",
    "茶楼",
    "汽车维修",
    "干洗店",
    "快餐",
    "食品加工",
    "物业管理",
)
BUSINESS_TRADES_A = (
    "化工",
    "陶瓷制造",
    "热电",
    "食品工业",
    "玻璃制品",
    "纺织印染",
    "钢结构",
    "制药",
)
BUSINESS_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
INSTITUTIONS_A = (
    "滨江市第一人民医院",
    "滨江市中医院",
    "滨江大学",
    "滨江市第三中学",
    "滨江国际会展中心",
    "滨江市政府机关事务管理局",
    "滨江火车站",
    "滨江万达广场",
)
ENGLISH_BUSINESSES = (
    "Riverside Bistro",
    "Harbour View Hotel",
    "Golden Gate Bakery",
    "Blue Lotus Café",
    "Binjiang International School",
    "Northstar Logistics Co., Ltd.",
)
